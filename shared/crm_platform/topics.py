"""Topic names: part of the contract between services (one topic per producing service)."""

ACCOUNTS_EVENTS = "accounts.events"  # produced by the gateway: AccountCreated
CONTACTS_EVENTS = "contacts.events"  # produced by contacts: contact and label events
