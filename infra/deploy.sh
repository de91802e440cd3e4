#!/usr/bin/env bash
# Deploy dancepose to ECS Fargate: build and push the image, create or update
# the CloudFormation stacks, register the two task definitions (the API's
# and the job worker's), and roll both services onto them. See infra/README.md.
#
# usage: VPC_ID=vpc-... PUBLIC_SUBNET_IDS=subnet-a,subnet-b infra/deploy.sh
#   VPC_ID               existing VPC (required)
#   PUBLIC_SUBNET_IDS    load balancer subnets, two or more AZs (required)
#   SERVICE_SUBNET_IDS   task subnets of both services (default: PUBLIC_SUBNET_IDS)
#   ASSIGN_PUBLIC_IP     ENABLED|DISABLED (default: ENABLED when the tasks run
#                        in PUBLIC_SUBNET_IDS, else DISABLED)
#   CERTIFICATE_ARN      ACM certificate: adds HTTPS and redirects HTTP to it
#   PAGE_ORIGIN          origin of the web page, for the bucket's CORS (default *)
#   MIN_TASKS, MAX_TASKS API service autoscaling bounds (default 2 and 6)
#   WORKER_MIN_TASKS, WORKER_MAX_TASKS
#                        worker service autoscaling bounds (default 1 and 6)
#   MODEL_FILE           build with this model file (a path under build/model/)
#                        instead of downloading it (see Dockerfile)
#   AWS_REGION           region (default: the AWS CLI's configured region)
# usage: infra/deploy.sh render-task-definition api|worker ACCOUNT_ID REGION IMAGE BUCKET QUEUE_URL TABLE WEBHOOK_SECRET_ARN
#   print task-definition.json (api) or infra/worker-task-definition.json
#   (worker) with its placeholders filled in: the jobs stack's bucket, queue
#   URL and table are JOB_BUCKET, JOB_QUEUE_URL and JOB_TABLE; its webhook
#   secret (an ARN, never the value) is where ECS takes WEBHOOK_SECRET from
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)

die() { echo "deploy: $*" >&2; exit 1; }

# The task definition of a service (api or worker) with ${AWS_ACCOUNT_ID},
# ${AWS_REGION}, ${IMAGE}, ${JOB_BUCKET}, ${JOB_QUEUE_URL}, ${JOB_TABLE} and
# ${WEBHOOK_SECRET_ARN} replaced.
render_task_definition() {
  local service=$1 account=$2 region=$3 image=$4 bucket=$5 queue_url=$6 table=$7 secret_arn=$8 file json key
  case $service in
    api) file=$root/task-definition.json ;;
    worker) file=$root/infra/worker-task-definition.json ;;
    *) die "not a service: '$service' (api or worker)" ;;
  esac
  [[ $account =~ ^[0-9]{12}$ ]] || die "not an AWS account id: '$account'"
  [[ $region =~ ^[a-z]{2}(-[a-z]+)+-[0-9]+$ ]] || die "not an AWS region: '$region'"
  [[ $image =~ ^[A-Za-z0-9./:@_-]+$ ]] || die "not an image reference: '$image'"
  [[ $bucket =~ ^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$ ]] || die "not an S3 bucket name: '$bucket'"
  [[ $queue_url =~ ^https://sqs\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/[0-9]{12}/[A-Za-z0-9_-]{1,80}$ ]] ||
    die "not an SQS queue URL: '$queue_url'"
  [[ $table =~ ^[A-Za-z0-9_.-]{3,255}$ ]] || die "not a DynamoDB table name: '$table'"
  # A secret of this account and region (the execution role may read only
  # the jobs stack's): a full ARN, name and the 6 characters Secrets Manager
  # appends, as the stack's WebhookSecretArn output gives it.
  [[ $secret_arn =~ ^arn:aws(-[a-z]+)*:secretsmanager:"$region":"$account":secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$ ]] ||
    die "not the ARN of a Secrets Manager secret in $account, $region: '$secret_arn'"
  local -A values=([AWS_ACCOUNT_ID]=$account [AWS_REGION]=$region [IMAGE]=$image
    [JOB_BUCKET]=$bucket [JOB_QUEUE_URL]=$queue_url [JOB_TABLE]=$table [WEBHOOK_SECRET_ARN]=$secret_arn)
  json=$(<"$file")
  for key in "${!values[@]}"; do
    json=${json//"\${$key}"/"${values[$key]}"}
  done
  [[ $json != *"\${"* ]] || die "${file#"$root"/} has a placeholder this script does not fill"
  printf '%s\n' "$json"
}

# register_task_definition SERVICE ACCOUNT REGION IMAGE BUCKET QUEUE_URL TABLE WEBHOOK_SECRET_ARN:
# register a rendered task definition and print its ARN.
register_task_definition() {
  local rendered arn
  rendered=$(mktemp)
  render_task_definition "$@" >"$rendered"
  arn=$(aws ecs register-task-definition --cli-input-json "file://$rendered" \
    --query taskDefinition.taskDefinitionArn --output text)
  rm -f "$rendered"
  echo "$arn"
}

# deploy_stack NAME TEMPLATE [Key=Value ...]: create or update a stack and wait.
deploy_stack() {
  local name=$1 template=$2
  shift 2
  local args=(--stack-name "$name" --template-file "$root/infra/$template"
    --capabilities CAPABILITY_NAMED_IAM --no-fail-on-empty-changeset)
  [ $# -eq 0 ] || args+=(--parameter-overrides "$@")
  echo "== stack $name ($template)"
  aws cloudformation deploy "${args[@]}"
}

stack_output() {
  aws cloudformation describe-stacks --stack-name "$1" \
    --query "Stacks[0].Outputs[?OutputKey=='$2'].OutputValue" --output text
}

# The image tag: the commit, plus a timestamp if the work tree has changes
# (the repository's tags are immutable).
image_tag() {
  local tag
  tag=$(git -C "$root" rev-parse --short=12 HEAD)
  if [ -n "$(git -C "$root" status --porcelain)" ]; then
    tag=$tag-dirty-$(date -u +%Y%m%d%H%M%S)
  fi
  echo "$tag"
}

build_and_push() {
  local image=$1 build=(--platform linux/amd64 -t "$1")
  if aws ecr describe-images --repository-name dancepose --image-ids "imageTag=${image##*:}" >/dev/null 2>&1; then
    echo "== $image is already in ECR"
    return
  fi
  [ -z "${MODEL_FILE:-}" ] || build+=(--build-arg "MODEL_FILE=$MODEL_FILE")
  echo "== building $image"
  docker build "${build[@]}" "$root"
  aws ecr get-login-password | docker login --username AWS --password-stdin "${image%%/*}"
  docker push "$image"
}

deploy() {
  : "${VPC_ID:?set VPC_ID (see infra/README.md)}"
  : "${PUBLIC_SUBNET_IDS:?set PUBLIC_SUBNET_IDS, comma-separated}"
  local service_subnets=${SERVICE_SUBNET_IDS:-$PUBLIC_SUBNET_IDS} public_ip
  public_ip=${ASSIGN_PUBLIC_IP:-$([ -z "${SERVICE_SUBNET_IDS:-}" ] && echo ENABLED || echo DISABLED)}
  for tool in aws docker git; do
    command -v "$tool" >/dev/null || die "$tool is required"
  done

  local region account
  region=${AWS_REGION:-$(aws configure get region || true)}
  [ -n "$region" ] || die "set AWS_REGION or configure a default region"
  export AWS_DEFAULT_REGION=$region
  account=$(aws sts get-caller-identity --query Account --output text)
  echo "== account $account, region $region"

  deploy_stack dancepose-ecr ecr.yaml
  local image
  image=$(stack_output dancepose-ecr RepositoryUri):$(image_tag)
  build_and_push "$image"

  deploy_stack dancepose-load-balancer load-balancer.yaml \
    "VpcId=$VPC_ID" "PublicSubnetIds=$PUBLIC_SUBNET_IDS" "CertificateArn=${CERTIFICATE_ARN:-}"
  # The queue's visibility timeout and maxReceiveCount are the template's
  # defaults, which tests/test_deploy_config.py checks against the task
  # definitions' ANALYSIS_TIMEOUT_S and JOB_MAX_ATTEMPTS.
  deploy_stack dancepose-jobs jobs.yaml "PageOrigin=${PAGE_ORIGIN:-*}"
  deploy_stack dancepose-cluster cluster.yaml

  local jobs=() service
  jobs+=("$(stack_output dancepose-jobs BucketName)")
  jobs+=("$(stack_output dancepose-jobs QueueUrl)")
  jobs+=("$(stack_output dancepose-jobs TableName)")
  jobs+=("$(stack_output dancepose-jobs WebhookSecretArn)")
  local -A task_definition
  for service in api worker; do
    task_definition[$service]=$(register_task_definition "$service" "$account" "$region" "$image" "${jobs[@]}")
    echo "== registered ${task_definition[$service]}"
  done

  local network=("SubnetIds=$service_subnets" "AssignPublicIp=$public_ip")
  local api=("TaskDefinitionArn=${task_definition[api]}" "${network[@]}")
  [ -z "${MIN_TASKS:-}" ] || api+=("MinTasks=$MIN_TASKS")
  [ -z "${MAX_TASKS:-}" ] || api+=("MaxTasks=$MAX_TASKS")
  deploy_stack dancepose-api api-service.yaml "${api[@]}"
  local worker=("TaskDefinitionArn=${task_definition[worker]}" "VpcId=$VPC_ID" "${network[@]}")
  [ -z "${WORKER_MIN_TASKS:-}" ] || worker+=("MinTasks=$WORKER_MIN_TASKS")
  [ -z "${WORKER_MAX_TASKS:-}" ] || worker+=("MaxTasks=$WORKER_MAX_TASKS")
  deploy_stack dancepose-worker worker-service.yaml "${worker[@]}"

  echo "== deployed: $(stack_output dancepose-load-balancer Url)"
}

case "${1:-}" in
  render-task-definition)
    [ $# -eq 9 ] || die "usage: $0 render-task-definition api|worker ACCOUNT_ID REGION IMAGE BUCKET QUEUE_URL TABLE WEBHOOK_SECRET_ARN"
    shift
    render_task_definition "$@"
    ;;
  "") deploy ;;
  *) die "unknown command '$1' (see the header of $0)" ;;
esac
