#!/usr/bin/env bash
# Deploy dancepose to ECS Fargate behind an Application Load Balancer: build
# and push the image, create or update the CloudFormation stacks, register the
# task definition, and roll the service onto it. See infra/README.md.
#
# usage: VPC_ID=vpc-... PUBLIC_SUBNET_IDS=subnet-a,subnet-b infra/deploy.sh
#   VPC_ID               existing VPC (required)
#   PUBLIC_SUBNET_IDS    load balancer subnets, two or more AZs (required)
#   SERVICE_SUBNET_IDS   task subnets (default: PUBLIC_SUBNET_IDS)
#   ASSIGN_PUBLIC_IP     ENABLED|DISABLED (default: ENABLED when the tasks run
#                        in PUBLIC_SUBNET_IDS, else DISABLED)
#   CERTIFICATE_ARN      ACM certificate: adds HTTPS and redirects HTTP to it
#   MIN_TASKS, MAX_TASKS autoscaling bounds (default 2 and 6)
#   MODEL_FILE           build with this model file (a path under build/model/)
#                        instead of downloading it (see Dockerfile)
#   AWS_REGION           region (default: the AWS CLI's configured region)
# usage: infra/deploy.sh render-task-definition ACCOUNT_ID REGION IMAGE
#   print task-definition.json with its placeholders filled in
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)

die() { echo "deploy: $*" >&2; exit 1; }

# task-definition.json with ${AWS_ACCOUNT_ID}, ${AWS_REGION} and ${IMAGE} replaced.
render_task_definition() {
  local account=$1 region=$2 image=$3 json key
  [[ $account =~ ^[0-9]{12}$ ]] || die "not an AWS account id: '$account'"
  [[ $region =~ ^[a-z]{2}(-[a-z]+)+-[0-9]+$ ]] || die "not an AWS region: '$region'"
  [[ $image =~ ^[A-Za-z0-9./:@_-]+$ ]] || die "not an image reference: '$image'"
  local -A values=([AWS_ACCOUNT_ID]=$account [AWS_REGION]=$region [IMAGE]=$image)
  json=$(<"$root/task-definition.json")
  for key in "${!values[@]}"; do
    json=${json//"\${$key}"/"${values[$key]}"}
  done
  [[ $json != *"\${"* ]] || die "task-definition.json has a placeholder this script does not fill"
  printf '%s\n' "$json"
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
  # The queue's visibility timeout: the longest a job runs (the analysis
  # limit plus rendering and upload), as gunicorn's worker timeout is.
  deploy_stack dancepose-jobs jobs.yaml \
    "JobVisibilityTimeoutS=$((${ANALYSIS_TIMEOUT_S:-300} + 120))" "PageOrigin=${PAGE_ORIGIN:-*}"
  deploy_stack dancepose-cluster cluster.yaml

  local rendered task_definition
  rendered=$(mktemp)
  render_task_definition "$account" "$region" "$image" >"$rendered"
  task_definition=$(aws ecs register-task-definition --cli-input-json "file://$rendered" \
    --query taskDefinition.taskDefinitionArn --output text)
  rm -f "$rendered"
  echo "== registered $task_definition"

  local service=("TaskDefinitionArn=$task_definition" "SubnetIds=$service_subnets"
    "AssignPublicIp=$public_ip")
  [ -z "${MIN_TASKS:-}" ] || service+=("MinTasks=$MIN_TASKS")
  [ -z "${MAX_TASKS:-}" ] || service+=("MaxTasks=$MAX_TASKS")
  deploy_stack dancepose-service api-service.yaml "${service[@]}"

  echo "== deployed: $(stack_output dancepose-load-balancer Url)"
}

case "${1:-}" in
  render-task-definition)
    [ $# -eq 4 ] || die "usage: $0 render-task-definition ACCOUNT_ID REGION IMAGE"
    render_task_definition "$2" "$3" "$4"
    ;;
  "") deploy ;;
  *) die "unknown command '$1' (see the header of $0)" ;;
esac
