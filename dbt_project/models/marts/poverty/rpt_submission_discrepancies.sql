-- Every discrepancy between what a commune claimed and what the warehouse recomputes
-- (computed in int_submission_discrepancies, which the submission outcomes also read).

select * from {{ ref('int_submission_discrepancies') }}
