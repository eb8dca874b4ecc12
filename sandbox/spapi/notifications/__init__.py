"""The Notifications API (destinations, ORDER_CHANGE subscriptions) and delivery to a real SQS queue."""
