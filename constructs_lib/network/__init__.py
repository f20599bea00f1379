"""The network: VPC with its subnets, endpoints and flow logs; the Transit Gateway hub and its
attachments; Route 53 zones and their delegation."""
