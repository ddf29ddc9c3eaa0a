-- materialized: incremental
-- partition_by: week_start
-- Per account, the week's product activity: the users with any event in the week and their events by type.
-- An event counts in the week its timestamp falls in (the data interval): one dated after the week's end (a
-- future timestamp) does not count. A user's account is the one in the week's users snapshot.
SELECT {{ ds }} AS ds,
       {{ ds }} AS week_start,
       u.account_id,
       COUNT(DISTINCT e.user_id) AS active_users,
       COUNT(*) AS events,
       SUM(CASE WHEN e.event_type = 'task_created' THEN 1 ELSE 0 END) AS tasks_created,
       SUM(CASE WHEN e.event_type = 'task_completed' THEN 1 ELSE 0 END) AS tasks_completed,
       SUM(CASE WHEN e.event_type = 'comment_added' THEN 1 ELSE 0 END) AS comments
FROM {{ ref('stg_saas_events') }} e
JOIN {{ ref('stg_saas_users') }} u ON u.user_id = e.user_id
WHERE e.occurred_at >= {{ data_interval_start }} AND e.occurred_at < {{ data_interval_end }}
GROUP BY u.account_id
