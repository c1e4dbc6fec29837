-- A registration's name is unique within its integration (the use case checks it in the
-- inserting transaction; the index closes the race between two nodes).
CREATE UNIQUE INDEX event_registrations_name ON event_registrations(integration_id, name);
