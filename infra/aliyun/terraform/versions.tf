terraform {
  required_version = ">= 1.5.0"

  required_providers {
    alicloud = {
      source = "aliyun/alicloud"
      # alicloud_fcv3_* resources exist since 1.228.0; alicloud_ram_role's
      # role_name / assume_role_policy_document since 1.252.0.
      version = ">= 1.252.0, < 2.0.0"
    }
  }
}

provider "alicloud" {
  region = var.region
  # Credentials: ALIBABA_CLOUD_ACCESS_KEY_ID / ALIBABA_CLOUD_ACCESS_KEY_SECRET
  # (or a profile) in the deployer's environment, never here.
}
