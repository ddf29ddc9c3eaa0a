SELECT country,
       COUNT(*) AS orders,
       ROUND(SUM(amount), 2) AS revenue,
       COUNT(DISTINCT client_id) AS customers,
       ROUND(100.0 * SUM(amount) / (SELECT SUM(amount) FROM {{ ref('fact_sales') }} WHERE ds <= {{ ds }}), 2) AS revenue_share
FROM {{ ref('fact_sales') }}
WHERE ds <= {{ ds }}
GROUP BY country
ORDER BY country
