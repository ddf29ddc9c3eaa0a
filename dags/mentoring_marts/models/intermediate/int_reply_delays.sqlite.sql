{{ config(materialized='ephemeral') }}
-- Seconds from a conversation's start to its first reply. The one dialect-specific model: SQLite has julianday,
-- PostgreSQL subtracts timestamps (int_reply_delays.postgres.sql).
SELECT conversation_id,
       CAST(ROUND((julianday(first_reply_at) - julianday(created_at)) * 86400) AS INTEGER) AS reply_seconds
FROM {{ ref('stg_conversations') }}
WHERE first_reply_at IS NOT NULL
