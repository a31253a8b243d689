-- @id return_rate
-- @label.ru Процент возврата
-- @label.en Return rate
-- @unit percent
-- @additive no
-- @dimensions doctor, direction, source, month
-- @columns doctor=first_doctor_id, direction=first_direction_id, source=first_source_id, month=first_month
-- @param.days 30|90|180|365 = 180
-- @param.scope clinic|doctor = clinic
-- @definition The patients whose first-ever visit is in [from, to) (by doctor/direction: with that doctor, in that direction): the share who came back on a later day at most `days` days after it, to the clinic or (scope=doctor) to the same doctor. Only patients whose first visit is at least `days` days before today are in the denominator; those still inside their window are reported as `censored`, never mixed in. kpi.md §4.
SELECT {{dim}} AS dim,
       SUM(CASE WHEN f.first_date <= :cutoff
                 AND (CASE WHEN CAST(:scope AS TEXT) = 'doctor' THEN f.return_days_doctor ELSE f.return_days_clinic END) <= :days
                THEN 1 ELSE 0 END) * 1.0
         / NULLIF(SUM(CASE WHEN f.first_date <= :cutoff THEN 1 ELSE 0 END), 0) AS value,
       SUM(CASE WHEN f.first_date <= :cutoff
                 AND (CASE WHEN CAST(:scope AS TEXT) = 'doctor' THEN f.return_days_doctor ELSE f.return_days_clinic END) <= :days
                THEN 1 ELSE 0 END) AS returned,
       SUM(CASE WHEN f.first_date <= :cutoff THEN 1 ELSE 0 END) AS cohort,
       SUM(CASE WHEN f.first_date > :cutoff THEN 1 ELSE 0 END) AS censored
FROM clinic_patient f
WHERE f.portal_id = :portal AND f.first_date >= :from AND f.first_date < :to {{filters}}
GROUP BY {{dim}}
