"""The organisation: OUs and service control policies, trusted access and delegated
administrators, the log archive, the organisation trail and security services, budgets."""
