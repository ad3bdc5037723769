-- Schema v6: every alarm event carries what its rule says about the hazard (rules/alarm.hpp
-- RuleHazard), so the work-order service opens, adds to and escalates orders from the stored
-- event alone, whatever the rules are by the time it acts on it.
--
-- Rows stored before v6 have rule_description NULL: the order service's catch-up takes their
-- hazard from the rules as configured, as it did before v6.

ALTER TABLE alarm_events ADD COLUMN rule_description TEXT;     -- NULL: stored before v6, or an
                                                               -- area-wide flood event
ALTER TABLE alarm_events ADD COLUMN hazard_type TEXT;          -- the rule's hazard block; NULL
ALTER TABLE alarm_events ADD COLUMN hazard_risk TEXT;          -- when it has none
ALTER TABLE alarm_events ADD COLUMN hazard_title TEXT;
ALTER TABLE alarm_events ADD COLUMN counted_hazard_type TEXT;  -- recurrence rules: the hazard type
                                                               -- they count; '' for other rules
