-- Every client's purchases up to ds (client_kpis.sql for DuckDB: no julianday(), date_diff instead;
-- and SQLite's rounding). RFM segment, first match wins:
-- champion (bought in the last 7 days and 3+ orders), loyal (3+ orders), recent (last 7 days),
-- at_risk (nothing for more than 30 days), regular (the rest).
SELECT client_id,
       orders,
       total_spent,
       -- DuckDB rounds a DOUBLE's binary value (1118.985 → 1118.98) where SQLite rounds its decimal form (→ 1118.99):
       -- through a DECIMAL first, as SQLite does.
       CAST(ROUND(CAST(total_spent / orders AS DECIMAL(38, 9)), 2) AS DOUBLE) AS avg_order_value,
       first_purchase,
       last_purchase,
       recency_days,
       CASE
           WHEN recency_days <= 7 AND orders >= 3 THEN 'champion'
           WHEN orders >= 3 THEN 'loyal'
           WHEN recency_days <= 7 THEN 'recent'
           WHEN recency_days > 30 THEN 'at_risk'
           ELSE 'regular'
       END AS rfm_segment
FROM (
    SELECT client_id,
           COUNT(*) AS orders,
           ROUND(SUM(amount), 2) AS total_spent,
           MIN(purchase_date) AS first_purchase,
           MAX(purchase_date) AS last_purchase,
           date_diff('day', CAST(MAX(purchase_date) AS DATE), CAST({{ ds }} AS DATE)) AS recency_days
    FROM {{ ref('fact_sales') }}
    WHERE ds <= {{ ds }}
    GROUP BY client_id
)
ORDER BY client_id
