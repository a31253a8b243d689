-- The daily sums of visits (clinic_visit_day) for the days in clinic_dirty_day, after
-- visit_order.sql: a day is dirty when a visit on it was added, removed or changed (facts.ts), or
-- when the first-visit flag of one of its visits moved (visit_order.sql).
DELETE FROM clinic_visit_day
WHERE portal_id = :portal
  AND visit_date IN (SELECT visit_date FROM clinic_dirty_day WHERE portal_id = :portal);

INSERT INTO clinic_visit_day (portal_id, visit_date, doctor_id, direction_id, source_id, visit_week,
                              visit_month, visits, revenue_minor, new_patients)
SELECT v.portal_id, v.visit_date, v.doctor_id, v.direction_id, v.source_id, v.visit_week, v.visit_month,
       COUNT(*), SUM(v.revenue_minor), SUM(v.is_first)
FROM clinic_visit v
JOIN clinic_dirty_day d ON d.portal_id = v.portal_id AND d.visit_date = v.visit_date
WHERE v.portal_id = :portal
GROUP BY v.portal_id, v.visit_date, v.doctor_id, v.direction_id, v.source_id, v.visit_week, v.visit_month;
