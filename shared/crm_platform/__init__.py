"""The CRM platform: what every service shares (events, storage, messaging, HTTP shell)."""
