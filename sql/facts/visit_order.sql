-- Visit order within each patient's whole history, for the patients in clinic_dirty_patient.
-- A patient's visits are ordered by (visit_date, deal_id): the first is the first-ever visit (two
-- deals on one day: the lower deal id is first, the other is visit 2 on the same day and is not a
-- return — return metrics compare days, see patient.sql). first_date and months_since_first are
-- copied onto every visit so cohort KPIs read one table.
-- First, the days on which a visit's first-visit flag is about to change: their daily sums
-- (visit_day.sql) must be recomputed, and only theirs — not every day a dirty patient ever came.
INSERT INTO clinic_dirty_day (portal_id, visit_date)
SELECT DISTINCT v.portal_id, v.visit_date
FROM clinic_visit v
JOIN (
  SELECT v2.deal_id, ROW_NUMBER() OVER (PARTITION BY v2.patient_id ORDER BY v2.visit_date, v2.deal_id) AS n
  FROM clinic_visit v2
  JOIN clinic_dirty_patient d ON d.portal_id = v2.portal_id AND d.patient_id = v2.patient_id
  WHERE v2.portal_id = :portal
) o ON o.deal_id = v.deal_id
WHERE v.portal_id = :portal
  AND v.is_first <> CASE WHEN o.n = 1 THEN 1 ELSE 0 END
  AND NOT EXISTS (SELECT 1 FROM clinic_dirty_day x WHERE x.portal_id = v.portal_id AND x.visit_date = v.visit_date);

-- prev_date* and second_date* make distinct patient counts sums (src/kpi/sources.ts): the previous
-- visit of the patient overall and with the same doctor, direction, source (a null doctor is a group
-- of its own, as in GROUP BY), and the first later day than first_date with the same splits.
UPDATE clinic_visit
SET visit_number = o.n,
    is_first = CASE WHEN o.n = 1 THEN 1 ELSE 0 END,
    first_date = o.first_date,
    months_since_first = clinic_visit.month_no - o.first_month_no,
    prev_date = o.prev_date,
    prev_date_doctor = o.prev_date_doctor,
    prev_date_direction = o.prev_date_direction,
    prev_date_source = o.prev_date_source,
    second_date = o.second_date,
    second_date_doctor = o.second_date_doctor,
    second_date_direction = o.second_date_direction,
    second_date_source = o.second_date_source
FROM (
  SELECT w.deal_id, w.n, w.first_date, w.first_month_no,
         LAG(w.visit_date) OVER (PARTITION BY w.patient_id ORDER BY w.visit_date, w.deal_id) AS prev_date,
         LAG(w.visit_date) OVER (PARTITION BY w.patient_id, w.doctor_id ORDER BY w.visit_date, w.deal_id) AS prev_date_doctor,
         LAG(w.visit_date) OVER (PARTITION BY w.patient_id, w.direction_id ORDER BY w.visit_date, w.deal_id) AS prev_date_direction,
         LAG(w.visit_date) OVER (PARTITION BY w.patient_id, w.source_id ORDER BY w.visit_date, w.deal_id) AS prev_date_source,
         MIN(w.later) OVER (PARTITION BY w.patient_id) AS second_date,
         MIN(w.later) OVER (PARTITION BY w.patient_id, w.doctor_id) AS second_date_doctor,
         MIN(w.later) OVER (PARTITION BY w.patient_id, w.direction_id) AS second_date_direction,
         MIN(w.later) OVER (PARTITION BY w.patient_id, w.source_id) AS second_date_source
  FROM (
    SELECT p.*, CASE WHEN p.visit_date > p.first_date THEN p.visit_date END AS later
    FROM (
      SELECT v.deal_id, v.patient_id, v.doctor_id, v.direction_id, v.source_id, v.visit_date,
             ROW_NUMBER() OVER (PARTITION BY v.patient_id ORDER BY v.visit_date, v.deal_id) AS n,
             MIN(v.visit_date) OVER (PARTITION BY v.patient_id) AS first_date,
             MIN(v.month_no) OVER (PARTITION BY v.patient_id) AS first_month_no
      FROM clinic_visit v
      JOIN clinic_dirty_patient d ON d.portal_id = v.portal_id AND d.patient_id = v.patient_id
      WHERE v.portal_id = :portal
    ) p
  ) w
) o
WHERE clinic_visit.portal_id = :portal AND clinic_visit.deal_id = o.deal_id;
