-- materialized: partition
-- One row per purchase of the day, with its amount and the client's country (fact_sales.sql, for DuckDB).
SELECT p.purchase_id,
       p.client_id,
       p.product,
       p.quantity,
       p.unit_price,
       ROUND(p.quantity * p.unit_price, 2) AS amount,
       substr(p.purchase_date, 1, 10) AS purchase_date,
       c.country
FROM silver_purchases p
-- DuckDB has no bare columns beside MAX(): arg_max takes the country of the client's latest record.
JOIN (SELECT client_id, arg_max(country, ds) AS country FROM silver_clients WHERE ds <= {{ ds }} GROUP BY client_id) c
  ON c.client_id = p.client_id
WHERE p.ds = {{ ds }}
