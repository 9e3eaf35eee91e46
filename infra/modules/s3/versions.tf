terraform {
  # 1.7 is the first release with mock providers in `terraform test`.
  required_version = ">= 1.7"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }
}
