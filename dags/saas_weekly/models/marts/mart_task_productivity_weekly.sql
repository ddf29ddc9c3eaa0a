-- materialized: incremental
-- partition_by: week_start
-- Per account (the task's project's account), from the end-of-week tasks snapshot: tasks created in the week,
-- tasks completed in the week, and their mean cycle time (completed_at - created_at) in hours, 1 decimal.
-- A completion dated after the week's end (in the future) is not one yet; a completion before the task's
-- creation is ignored (the task is not counted as completed and has no cycle time).
WITH created AS (
    SELECT account_id, COUNT(*) AS tasks_created
    FROM {{ ref('int_saas_tasks') }}
    WHERE created_at >= {{ data_interval_start }} AND created_at < {{ data_interval_end }}
    GROUP BY account_id
), completed AS (
    SELECT account_id, COUNT(*) AS tasks_completed, ROUND(AVG(cycle_seconds) / 3600.0, 1) AS avg_cycle_time_hours
    FROM {{ ref('int_saas_tasks') }}
    WHERE completed_at >= {{ data_interval_start }} AND completed_at < {{ data_interval_end }} AND completed_at >= created_at
    GROUP BY account_id
), accounts AS (
    SELECT account_id FROM created UNION SELECT account_id FROM completed
)
SELECT {{ ds }} AS ds,
       {{ ds }} AS week_start,
       a.account_id,
       COALESCE(cr.tasks_created, 0) AS tasks_created,
       COALESCE(co.tasks_completed, 0) AS tasks_completed,
       CAST(co.avg_cycle_time_hours AS REAL) AS avg_cycle_time_hours  -- REAL even when NULL
FROM accounts a
LEFT JOIN created cr ON cr.account_id = a.account_id
LEFT JOIN completed co ON co.account_id = a.account_id
