-- materialized: ephemeral
-- Each task of the week's snapshot with its project's account and its cycle time in seconds; inlined into the
-- marts (a CTE, as the query planner saw it under gold.sql).
SELECT p.account_id, t.created_at, t.completed_at,
       CAST(strftime('%s', t.completed_at) AS INTEGER) - CAST(strftime('%s', t.created_at) AS INTEGER) AS cycle_seconds
FROM {{ ref('stg_saas_tasks') }} t
JOIN {{ ref('stg_saas_projects') }} p ON p.project_id = t.project_id
