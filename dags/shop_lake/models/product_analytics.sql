SELECT product,
       COUNT(*) AS orders,
       SUM(quantity) AS units,
       ROUND(SUM(amount), 2) AS revenue,
       COUNT(DISTINCT client_id) AS customers
FROM {{ ref('fact_sales') }}
WHERE ds <= {{ ds }}
GROUP BY product
ORDER BY product
