# Updraft on Alibaba Cloud Function Compute 3.0: the same deployment as
# ../s.yaml, plus the OSS bucket and the RAM role that the fc3 component cannot
# create.
#
#   timer ─► <prefix>-poll ─► <prefix>-resolve ─► <prefix>-write-back ─► <prefix>-sync
#                 (asynchronous-invocation destinations, onSuccess)                ▲
#   timer (the sweep of open changes) ────────────────────────────────────────────┘
#   HTTP trigger ─► <prefix>-http   (webhooks /webhook/<source>, approvals /approvals, /holds)

data "alicloud_account" "current" {}

locals {
  account_id = data.alicloud_account.current.id

  # The checkpoint store, through the region's internal endpoint (FC and the
  # bucket share the region). Credentials come from the role (docs/state.md).
  state_url = "oss://${var.bucket_name}/${var.state_prefix}?endpoint=https://s3.oss-${var.region}-internal.aliyuncs.com"

  timer_event = jsonencode({
    apiVersion = "updraft.dev/v1alpha1"
    kind       = "PollRequest"
    trigger    = { type = "timer" }
  })

  # A SyncRequest without applications: sync-trigger re-evaluates every open
  # change (docs/promotion.md, "Sweeps").
  sweep_event = jsonencode({
    apiVersion = "updraft.dev/v1alpha1"
    kind       = "SyncRequest"
  })

  # One entry per function. `next`: the stage its success invokes ("" for
  # none); `async`: whether it gets an async-invoke configuration (retries,
  # maximum event age, destination); `secrets`: the var.secrets keys it sees.
  functions = {
    poll = {
      suffix      = "poll"
      function    = "poll-registry"
      description = "Updraft poll-registry: list tags, fetch metadata, update the registry cache"
      memory      = 512
      cpu         = 0.35
      disk        = 512
      timeout     = 300
      concurrency = 1 # one writer per repository cache per cycle (docs/state.md)
      async       = true
      next        = "resolve"
      secrets     = ["REGISTRY_CREDS"]
    }
    resolve = {
      suffix      = "resolve"
      function    = "resolve-strategy"
      description = "Updraft resolve-strategy: filter and strategy plugins pick the tag"
      memory      = 1024 # wasmtime compiles the plugins
      cpu         = 0.5
      disk        = 512
      timeout     = 300
      concurrency = 1
      async       = true
      next        = "write_back"
      secrets     = ["REGISTRY_CREDS"]
    }
    write_back = {
      suffix      = "write-back"
      function    = "write-back"
      description = "Updraft write-back: commit the new tags to git, or update the Application through Argo CD"
      memory      = 1024
      cpu         = 0.5
      disk        = 10240 # repository clones under /tmp
      timeout     = 600
      concurrency = 1
      async       = true
      next        = "sync"
      secrets     = ["GIT_TOKEN", "ARGOCD_TOKEN"]
    }
    sync = {
      suffix      = "sync"
      function    = "sync-trigger"
      description = "Updraft sync-trigger: sync automated Applications, record pending approvals"
      memory      = 512
      cpu         = 0.35
      disk        = 512
      timeout     = 600 # argocd.sync_timeout defaults to 5m
      concurrency = 1
      async       = true
      next        = ""
      secrets     = ["ARGOCD_TOKEN"]
    }
    http = {
      suffix      = "http"
      function    = "pipeline"
      description = "Updraft webhooks (/webhook/<source>) and approvals (/approvals), whole pipeline in process"
      memory      = 1024
      cpu         = 0.5
      disk        = 10240 # runs write-back in process
      timeout     = 900
      concurrency = 4
      async       = false
      next        = ""
      secrets     = ["REGISTRY_CREDS", "GIT_TOKEN", "ARGOCD_TOKEN", "UPDRAFT_APPROVALS_TOKEN", "UPDRAFT_WEBHOOK_SECRET"]
    }
  }

  function_names = { for key, f in local.functions : key => "${var.name_prefix}-${f.suffix}" }

  # The stages some other stage's success invokes: the role may invoke these
  # and nothing else.
  chained = toset([for f in local.functions : f.next if f.next != ""])

  common_env = {
    UPDRAFT_CONFIG = "/code/updraft.yaml"
    UPDRAFT_STATE  = local.state_url
    # /code is read-only: compiled plugins are cached under /tmp.
    UPDRAFT_CACHE_DIR = "/tmp/updraft-cache"
    RUST_LOG          = var.log_level
  }
}

# ---------------------------------------------------------------------------
# State bucket. Versioning stays off: OSS ignores x-oss-forbid-overwrite on
# versioned buckets, and nothing in the store needs old versions (it can be
# rebuilt from the registries and git, docs/state.md).

resource "alicloud_oss_bucket" "state" {
  bucket = var.bucket_name

  server_side_encryption_rule {
    sse_algorithm = "AES256"
  }

  tags = {
    app = "updraft"
  }
}

resource "alicloud_oss_bucket_acl" "state" {
  bucket = alicloud_oss_bucket.state.bucket
  acl    = "private"
}

# The code package, under a key outside the state prefix (the functions' role
# cannot read or overwrite it). The key carries the zip's MD5 so that a new
# build updates the functions.
resource "alicloud_oss_bucket_object" "code" {
  count = var.create_functions ? 1 : 0

  bucket = alicloud_oss_bucket.state.bucket
  key    = "artifacts/updraft-fc-${filemd5(var.code_zip)}.zip"
  source = var.code_zip
}

# ---------------------------------------------------------------------------
# Execution role of all five functions, least privilege: objects under the
# state prefix, listing of that prefix only, and invoking the chained stages
# (FC invokes an async destination with the function's role).

resource "alicloud_ram_role" "fc" {
  role_name   = "${var.name_prefix}-fc"
  description = "Updraft functions: checkpoint store ${var.bucket_name}/${var.state_prefix}/ and the poll->resolve->write-back->sync chain"
  assume_role_policy_document = jsonencode({
    Version = "1"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = ["fc.aliyuncs.com"] }
    }]
  })
}

resource "alicloud_ram_policy" "fc" {
  policy_name = "${var.name_prefix}-fc"
  description = "Updraft: state prefix in ${var.bucket_name}, invoke the next stage"
  policy_document = jsonencode({
    Version = "1"
    Statement = [
      {
        # HeadObject is authorised as GetObject; CopyObject as GetObject on
        # the source plus PutObject on the target.
        Effect   = "Allow"
        Action   = ["oss:GetObject", "oss:PutObject", "oss:DeleteObject"]
        Resource = ["acs:oss:*:*:${var.bucket_name}/${var.state_prefix}/*"]
      },
      {
        Effect   = "Allow"
        Action   = ["oss:ListObjects"]
        Resource = ["acs:oss:*:*:${var.bucket_name}"]
        Condition = {
          StringLike = { "oss:Prefix" = ["${var.state_prefix}/*"] }
        }
      },
      {
        # FC 3.0 function ARNs are acs:fc:<region>:<account>:functions/<name>;
        # the /* form covers its versions and aliases (the pair fc3's
        # documentation gives for fc:InvokeFunction).
        Effect = "Allow"
        Action = ["fc:InvokeFunction"]
        Resource = flatten([
          for key in sort(tolist(local.chained)) : [
            "acs:fc:${var.region}:${local.account_id}:functions/${local.function_names[key]}",
            "acs:fc:${var.region}:${local.account_id}:functions/${local.function_names[key]}/*",
          ]
        ])
      },
    ]
  })
}

resource "alicloud_ram_role_policy_attachment" "fc" {
  role_name   = alicloud_ram_role.fc.role_name
  policy_name = alicloud_ram_policy.fc.policy_name
  policy_type = "Custom"
}

# Logs: no log_config here. To keep the functions' logs, create an SLS project
# and logstore, add a log_config block to the function below and allow the
# role log:PostLogStoreLogs on that logstore.

# ---------------------------------------------------------------------------
# Functions

resource "alicloud_fcv3_function" "this" {
  for_each = { for key, f in local.functions : key => f if var.create_functions }

  function_name        = local.function_names[each.key]
  description          = each.value.description
  runtime              = var.runtime
  handler              = "updraft" # ignored by custom runtimes, required by the API
  memory_size          = each.value.memory
  cpu                  = each.value.cpu
  disk_size            = each.value.disk
  timeout              = each.value.timeout
  instance_concurrency = each.value.concurrency
  internet_access      = true # registries, git and Argo CD are on the internet
  role                 = alicloud_ram_role.fc.arn

  code {
    oss_bucket_name = alicloud_oss_bucket_object.code[0].bucket
    oss_object_name = alicloud_oss_bucket_object.code[0].key
  }

  custom_runtime_config {
    command = ["/code/updraft"]
    args    = ["fc"]
    port    = 9000 # the server reads FC_CUSTOM_LISTEN_PORT, then FC_SERVER_PORT, then 9000

    health_check_config {
      http_get_url          = "/healthz"
      initial_delay_seconds = 1
      period_seconds        = 5
      timeout_seconds       = 2
      failure_threshold     = 3
      success_threshold     = 1
    }
  }

  instance_lifecycle_config {
    initializer {
      handler = "initialize" # POST /initialize
      timeout = 60
    }
    pre_stop {
      handler = "pre-stop" # GET /pre-stop
      timeout = 10
    }
  }

  environment_variables = merge(
    local.common_env,
    { UPDRAFT_FUNCTION = each.value.function },
    { for name in each.value.secrets : name => var.secrets[name] if contains(keys(var.secrets), name) },
  )

  # The role must carry its policy before the first invocation.
  depends_on = [alicloud_ram_role_policy_attachment.fc]
}

# poll → resolve → write-back → sync: each success invokes the next stage with
# FC's destination envelope around the result (`responsePayload`), which every
# stage accepts. Failed stages are retried; stale ones dropped.
resource "alicloud_fcv3_async_invoke_config" "this" {
  for_each = { for key, f in local.functions : key => f if var.create_functions && f.async }

  function_name                  = alicloud_fcv3_function.this[each.key].function_name
  qualifier                      = "LATEST"
  max_async_retry_attempts       = var.async_max_retry_attempts
  max_async_event_age_in_seconds = var.async_max_event_age_seconds

  dynamic "destination_config" {
    for_each = each.value.next == "" ? [] : [each.value.next]
    content {
      on_success {
        destination = "acs:fc:${var.region}:${local.account_id}:functions/${alicloud_fcv3_function.this[destination_config.value].function_name}"
      }
    }
  }
}

resource "alicloud_fcv3_trigger" "timer" {
  count = var.create_functions ? 1 : 0

  function_name = alicloud_fcv3_function.this[var.timer_function].function_name
  trigger_name  = "poll-every-5m"
  trigger_type  = "timer"
  qualifier     = "LATEST"
  # FC delivers {"triggerTime","triggerName","payload"}; the runtime parses
  # `payload` as the event.
  trigger_config = jsonencode({
    cronExpression = var.poll_cron
    enable         = true
    payload        = local.timer_event
  })
}

resource "alicloud_fcv3_trigger" "sweep" {
  count = var.create_functions ? 1 : 0

  function_name = alicloud_fcv3_function.this["sync"].function_name
  trigger_name  = "sweep-every-5m"
  trigger_type  = "timer"
  qualifier     = "LATEST"
  trigger_config = jsonencode({
    cronExpression = var.sweep_cron
    enable         = true
    payload        = local.sweep_event
  })
}

resource "alicloud_fcv3_trigger" "http" {
  count = var.create_functions ? 1 : 0

  function_name = alicloud_fcv3_function.this["http"].function_name
  trigger_name  = "http"
  trigger_type  = "http"
  qualifier     = "LATEST"
  # Anonymous at the gateway: registries cannot sign FC requests. The
  # application checks each webhook's secret and the approvals bearer token.
  trigger_config = jsonencode({
    authType           = "anonymous"
    disableURLInternet = false
    methods            = ["GET", "POST", "DELETE"] # DELETE /holds/... releases a hold
  })
}
