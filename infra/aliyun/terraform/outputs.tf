output "bucket" {
  description = "The state bucket (UPDRAFT_BUCKET for ../s.yaml)."
  value       = alicloud_oss_bucket.state.bucket
}

output "role_arn" {
  description = "The functions' execution role (UPDRAFT_ROLE_ARN for ../s.yaml)."
  value       = alicloud_ram_role.fc.arn
}

output "state_url" {
  description = "UPDRAFT_STATE of every function."
  value       = local.state_url
}

output "function_names" {
  description = "The five functions, by role."
  value       = var.create_functions ? { for key, f in alicloud_fcv3_function.this : key => f.function_name } : {}
}

# http_trigger is a computed attribute of recent providers (not in the 1.228
# docs); if `terraform validate` reports it unsupported, upgrade the provider
# or read the URL from the console.
output "http_url" {
  description = "Public URL of the HTTP trigger: webhooks at <url>/webhook/<source>, approvals at <url>/approvals."
  value       = var.create_functions ? try(alicloud_fcv3_trigger.http[0].http_trigger[0].url_internet, null) : null
}
