-- materialized: partition
SELECT {{ ds }} AS date,
       COUNT(*) AS orders,
       ROUND(COALESCE(SUM(amount), 0), 2) AS revenue,
       COUNT(DISTINCT client_id) AS customers
FROM {{ ref('fact_sales') }}
WHERE ds = {{ ds }}
