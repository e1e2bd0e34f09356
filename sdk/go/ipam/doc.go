// IP address management as infrastructure code: IPAM pools, CIDR allocations and Elastic IPs, planned in `pulumi preview` and allocated exactly as planned, on a local allocator (SQLite or PostgreSQL) or the AWS EC2 IPAM and Alibaba Cloud VPC IPAM APIs.
package ipam
