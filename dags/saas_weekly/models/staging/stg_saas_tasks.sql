-- The week's tasks snapshot: a task is `done` with its completed_at once completed. silver keeps completions
-- dated in the future or before the task's creation; the marts judge them against the week. `+ds`: see stg_saas_accounts.
SELECT task_id, project_id, created_by, assignee_id, status, priority, created_at, completed_at
FROM {{ source('silver', 'tasks') }}
WHERE +ds = {{ ds }}
