{{ config(materialized='ephemeral') }}
-- Seconds from a conversation's start to its first reply (see int_reply_delays.sqlite.sql).
SELECT conversation_id,
       CAST(EXTRACT(EPOCH FROM CAST(first_reply_at AS TIMESTAMPTZ) - CAST(created_at AS TIMESTAMPTZ)) AS BIGINT) AS reply_seconds
FROM {{ ref('stg_conversations') }}
WHERE first_reply_at IS NOT NULL
