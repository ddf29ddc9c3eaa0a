-- materialized: partition
-- One row per notification sent that day. A success when an 'opened' state exists for it; the time spent is
-- the seconds of the user's sessions started within the hour after the notification (0 when not a success).
-- global_notif_impact_per_day.sql for DuckDB, which has no julianday(): timestamps read with strptime.
SELECT n.user_id,
       n.notification_id,
       n.content AS content_notif,
       substr(n.notification_time, 1, 10) AS notif_date,
       CASE WHEN o.notification_id IS NOT NULL THEN 1 ELSE 0 END AS is_success,
       CASE WHEN o.notification_id IS NULL THEN 0 ELSE COALESCE((
           SELECT SUM(s.seconds) FROM {{ ref('sessions') }} s
           WHERE s.ds = {{ ds }} AND s.user_id = n.user_id
             AND s.started >= n.notification_time
             AND strptime(s.started, '%Y-%m-%dT%H:%M:%SZ') <= strptime(n.notification_time, '%Y-%m-%dT%H:%M:%SZ') + INTERVAL 1 HOUR), 0) END AS time_spend_after_success
FROM silver_user_notifications n
LEFT JOIN (SELECT DISTINCT notification_id FROM silver_notification_states
           WHERE ds = {{ ds }} AND status = 'opened') o ON o.notification_id = n.notification_id
WHERE n.ds = {{ ds }}
ORDER BY n.notification_id
