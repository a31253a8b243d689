-- Monthly sums for the months a build touched, after visit_day.sql. clinic_dirty_month collects those
-- months: here the months of the days in clinic_dirty_day (all that the visit and service sums need);
-- patient_month.sql adds more and empties it. clinic_visit_month comes from the daily sums,
-- clinic_service_month from the service lines (with their visit marks, so the visits behind a month's
-- lines stay countable). Months are 'YYYY-MM-01' strings, a day's month its first seven characters;
-- the lower bound on visit_date reads only from the earliest dirty month on (an incremental sync
-- mostly touches recent months).
INSERT INTO clinic_dirty_month (portal_id, visit_month)
SELECT DISTINCT :portal, SUBSTR(visit_date, 1, 7) || '-01' FROM clinic_dirty_day WHERE portal_id = :portal;

DELETE FROM clinic_visit_month
WHERE portal_id = :portal
  AND visit_month IN (SELECT visit_month FROM clinic_dirty_month WHERE portal_id = :portal);

INSERT INTO clinic_visit_month (portal_id, visit_month, doctor_id, direction_id, source_id, visits,
                                revenue_minor, new_patients)
SELECT d.portal_id, d.visit_month, d.doctor_id, d.direction_id, d.source_id, SUM(d.visits),
       SUM(d.revenue_minor), SUM(d.new_patients)
FROM clinic_visit_day d
WHERE d.portal_id = :portal
  AND d.visit_date >= (SELECT MIN(visit_month) FROM clinic_dirty_month WHERE portal_id = :portal)
  AND d.visit_month IN (SELECT visit_month FROM clinic_dirty_month WHERE portal_id = :portal)
GROUP BY d.portal_id, d.visit_month, d.doctor_id, d.direction_id, d.source_id;

DELETE FROM clinic_service_month
WHERE portal_id = :portal
  AND visit_month IN (SELECT visit_month FROM clinic_dirty_month WHERE portal_id = :portal);

INSERT INTO clinic_service_month (portal_id, visit_month, service_id, doctor_id, direction_id, quantity,
                                  revenue_minor, visit_mark, visit_mark_direction, visit_mark_service)
SELECT l.portal_id, l.visit_month, l.service_id, l.doctor_id, l.direction_id, SUM(l.quantity),
       SUM(l.revenue_minor), SUM(l.visit_mark), SUM(l.visit_mark_direction), SUM(l.visit_mark_service)
FROM clinic_service_line l
WHERE l.portal_id = :portal
  AND l.visit_date >= (SELECT MIN(visit_month) FROM clinic_dirty_month WHERE portal_id = :portal)
  AND l.visit_month IN (SELECT visit_month FROM clinic_dirty_month WHERE portal_id = :portal)
GROUP BY l.portal_id, l.visit_month, l.service_id, l.doctor_id, l.direction_id;
