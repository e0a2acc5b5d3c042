variable "region" {
  description = "Region of the functions and the state bucket (FC reaches OSS through that region's internal endpoint)."
  type        = string
  default     = "cn-hangzhou"
}

variable "name_prefix" {
  description = "Prefix of the function, role and policy names: <prefix>-poll, <prefix>-resolve, <prefix>-write-back, <prefix>-sync, <prefix>-http."
  type        = string
  default     = "updraft"
}

variable "bucket_name" {
  description = "OSS bucket for the checkpoint store and the code package (globally unique name)."
  type        = string
}

variable "state_prefix" {
  description = "Key prefix of the checkpoint store in the bucket; the role may touch nothing else in it."
  type        = string
  default     = "updraft"

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9._-]*$", var.state_prefix))
    error_message = "state_prefix is one path segment: letters, digits, '.', '_' or '-', no '/'."
  }
}

variable "create_functions" {
  description = "false: create only the bucket and the role (deploy the functions with Serverless Devs, ../s.yaml)."
  type        = bool
  default     = true
}

variable "code_zip" {
  description = "Code package made by ../package.sh: a zip with updraft and updraft.yaml at its root."
  type        = string
  default     = "../build/updraft-fc.zip"
}

variable "runtime" {
  description = "FC custom runtime. The recommended build (glibc 2.28, OpenSSL linked in) runs on all three; a plain Debian 12 build (glibc 2.34) on custom.debian12 only (../README.md)."
  type        = string
  default     = "custom.debian10"

  validation {
    condition     = contains(["custom.debian10", "custom.debian11", "custom.debian12"], var.runtime)
    error_message = "runtime must be custom.debian10, custom.debian11 or custom.debian12."
  }
}

variable "poll_cron" {
  description = "Timer of updraft-poll: six fields, seconds first; UTC unless it starts with CRON_TZ=."
  type        = string
  default     = "CRON_TZ=Asia/Shanghai 0 */5 * * * *"
}

variable "sweep_cron" {
  description = "Timer of the sync-trigger sweep, which re-evaluates open changes (gates, approvals, failed syncs)."
  type        = string
  default     = "CRON_TZ=Asia/Shanghai 30 */5 * * * *"
}

variable "timer_function" {
  description = <<-EOT
    Which function the timer invokes. "poll" (default): poll-registry, whose
    success starts the poll -> resolve -> write-back -> sync chain. "http": the
    pipeline function runs all four stages in process. Use "http" if FC does
    not fire async destinations for timer-triggered invocations (FC 2.0's
    documentation says it does not; unverified on FC 3.0, README.md).
  EOT
  type        = string
  default     = "poll"

  validation {
    condition     = contains(["poll", "http"], var.timer_function)
    error_message = "timer_function must be poll or http."
  }
}

variable "log_level" {
  description = "RUST_LOG of every function."
  type        = string
  default     = "info"
}

variable "async_max_retry_attempts" {
  description = "Retries of a failed asynchronous stage (every handler is idempotent)."
  type        = number
  default     = 2
}

variable "async_max_event_age_seconds" {
  description = "A stage event older than this is dropped; the next timer cycle redoes the work."
  type        = number
  default     = 900
}

variable "secrets" {
  description = <<-EOT
    Secret environment variables, by the names updraft.yaml references
    (env:NAME). Each function gets only those it uses:
      REGISTRY_CREDS           poll, resolve, http
      GIT_TOKEN                write-back, http
      ARGOCD_TOKEN             write-back, sync, http
      UPDRAFT_APPROVALS_TOKEN  http
      UPDRAFT_WEBHOOK_SECRET   http
    Pass them with TF_VAR_secrets='{"GIT_TOKEN":"..."}' or a *.auto.tfvars
    file kept out of git. They are stored in the Terraform state and in the
    functions' configuration: keep the state encrypted and private.
  EOT
  type        = map(string)
  default     = {}
  sensitive   = true
}
