#!/usr/bin/env bash
# Install one exact Terraform version from HashiCorp's official apt repository.
#
# Usage: install-terraform.sh <version>, e.g. install-terraform.sh 1.11.4
# The package is verified with HashiCorp's signing key; no Homebrew, no unpinned download.
set -euo pipefail

readonly version="${1:?usage: install-terraform.sh <version>}"
readonly keyring=/usr/share/keyrings/hashicorp-archive-keyring.gpg

curl --silent --show-error --fail --location --retry 3 https://apt.releases.hashicorp.com/gpg |
  sudo gpg --batch --yes --dearmor --output "${keyring}"
# shellcheck source=/dev/null
codename="$(. /etc/os-release && echo "${VERSION_CODENAME}")"
echo "deb [signed-by=${keyring}] https://apt.releases.hashicorp.com ${codename} main" |
  sudo tee /etc/apt/sources.list.d/hashicorp.list >/dev/null
sudo apt-get update --quiet --quiet
sudo apt-get install --quiet --quiet --yes --allow-downgrades "terraform=${version}-*"
terraform version
