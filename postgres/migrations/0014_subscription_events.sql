-- Subscriptions to the events of joint incidents ('assigned', 'request'):
-- the event kinds are checked in Go (cyberpact.Subscription.Check), where
-- each kind is defined, instead of by a CHECK naming them.
ALTER TABLE subscriptions DROP CONSTRAINT subscriptions_event_check;
ALTER TABLE subscriptions ADD CONSTRAINT subscriptions_event_check CHECK (event <> '');
