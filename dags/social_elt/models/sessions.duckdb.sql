-- materialized: partition
-- The day's sessions: started that day, with their length in seconds when they also ended that day (else 0).
-- sessions.sql for DuckDB, which has no julianday(): the UTC timestamps of silver read with strptime.
SELECT s.user_id,
       s.session_id,
       s.started,
       CASE WHEN e.ended IS NOT NULL AND e.ended >= s.started
            THEN date_diff('second', strptime(s.started, '%Y-%m-%dT%H:%M:%SZ'), strptime(e.ended, '%Y-%m-%dT%H:%M:%SZ')) ELSE 0 END AS seconds
FROM (SELECT user_id, session_id, MIN(event_time) AS started FROM silver_user_session_events
      WHERE ds = {{ ds }} AND event_type = 'session_start' GROUP BY user_id, session_id) s
LEFT JOIN (SELECT session_id, MAX(event_time) AS ended FROM silver_user_session_events
           WHERE ds = {{ ds }} AND event_type = 'session_end' GROUP BY session_id) e ON e.session_id = s.session_id
