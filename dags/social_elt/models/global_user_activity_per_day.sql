-- materialized: partition
-- One row per user with any activity that day: a session started, a message sent or a purchase made.
WITH day_sessions AS (SELECT user_id, COUNT(*) AS connexions, SUM(seconds) AS seconds FROM {{ ref('sessions') }}
                  WHERE ds = {{ ds }} GROUP BY user_id),
     messages AS (SELECT user_id, COUNT(*) AS sent FROM silver_group_messages WHERE ds = {{ ds }} GROUP BY user_id),
     spend AS (SELECT user_id, SUM(amount_eur) AS eur FROM silver_user_purchases WHERE ds = {{ ds }} GROUP BY user_id),
     active AS (SELECT user_id FROM day_sessions UNION SELECT user_id FROM messages UNION SELECT user_id FROM spend)
SELECT a.user_id,
       {{ ds }} AS date,
       COALESCE(s.connexions, 0) AS total_nbr_connexion,
       COALESCE(s.seconds, 0) AS total_spend_time,
       COALESCE(m.sent, 0) AS total_message_send_this_day,
       ROUND(COALESCE(p.eur, 0), 2) AS total_money_spend
FROM active a
LEFT JOIN day_sessions s ON s.user_id = a.user_id
LEFT JOIN messages m ON m.user_id = a.user_id
LEFT JOIN spend p ON p.user_id = a.user_id
ORDER BY a.user_id
