-- materialized: partition
-- Per account, the week's product activity: the users with any event in the week and their events by type.
-- An event counts in the week its timestamp falls in (the data interval): one dated after the week's end (a
-- future timestamp) does not count. A user's account is the one in the week's users snapshot.
-- `+ds` keeps SQLite off the ds indexes, whose default estimate (10 rows) would make it loop over the users
-- for every event; scanning instead, it builds an index on user_id for the join.
SELECT {{ ds }} AS week_start,
       u.account_id,
       COUNT(DISTINCT e.user_id) AS active_users,
       COUNT(*) AS events,
       SUM(CASE WHEN e.event_type = 'task_created' THEN 1 ELSE 0 END) AS tasks_created,
       SUM(CASE WHEN e.event_type = 'task_completed' THEN 1 ELSE 0 END) AS tasks_completed,
       SUM(CASE WHEN e.event_type = 'comment_added' THEN 1 ELSE 0 END) AS comments
FROM silver_events e
JOIN silver_users u ON u.user_id = e.user_id AND +u.ds = {{ ds }}
WHERE +e.ds = {{ ds }}
  AND e.occurred_at >= {{ data_interval_start }} AND e.occurred_at < {{ data_interval_end }}
GROUP BY u.account_id
