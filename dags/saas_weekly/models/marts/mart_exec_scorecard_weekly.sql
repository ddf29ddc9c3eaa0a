-- materialized: incremental
-- partition_by: week_start
-- The week in one row: accounts and users with activity (mart_user_activity_weekly), users created in the
-- week, tasks completed in the week (mart_task_productivity_weekly: valid completions), and the change of
-- weekly active users against the previous week in %, 1 decimal; NULL when the previous week has no
-- activity row (the first week) or no active user. The previous week is in the incremental activity table.
WITH activity AS (
    SELECT COUNT(*) AS active_accounts, COALESCE(SUM(active_users), 0) AS active_users
    FROM {{ ref('mart_user_activity_weekly') }} WHERE week_start = {{ ds }}
), previous AS (
    SELECT SUM(active_users) AS active_users
    FROM {{ ref('mart_user_activity_weekly') }} WHERE week_start = date({{ ds }}, '-7 days')
), new_users AS (
    SELECT COUNT(*) AS new_users FROM {{ ref('stg_saas_users') }}
    WHERE created_at >= {{ data_interval_start }} AND created_at < {{ data_interval_end }}
), completed AS (
    SELECT COALESCE(SUM(tasks_completed), 0) AS tasks_completed
    FROM {{ ref('mart_task_productivity_weekly') }} WHERE week_start = {{ ds }}
)
SELECT {{ ds }} AS ds,
       {{ ds }} AS week_start,
       a.active_accounts,
       a.active_users,
       n.new_users,
       c.tasks_completed,
       -- CAST: the column's declared type, so that the warehouse makes it REAL although the first week's value is NULL.
       CAST(CASE WHEN p.active_users > 0 THEN ROUND(100.0 * (a.active_users - p.active_users) / p.active_users, 1) END AS REAL) AS wau_change_pct
FROM activity a, previous p, new_users n, completed c
