-- The per-account marts hold one row per account and week (a composite key, which `unique` cannot test).
SELECT 'mart_user_activity_weekly' AS mart, week_start, account_id, COUNT(*) AS rows
FROM {{ ref('mart_user_activity_weekly') }} GROUP BY week_start, account_id HAVING COUNT(*) > 1
UNION ALL
SELECT 'mart_task_productivity_weekly', week_start, account_id, COUNT(*)
FROM {{ ref('mart_task_productivity_weekly') }} GROUP BY week_start, account_id HAVING COUNT(*) > 1
