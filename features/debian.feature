Feature: Install a package with apt in a pulled Debian image
  The original's promise: pull a Debian image, install a package into it
  with apt as root, through bubblewrap, on the host network, and run what
  was installed. The image is `debootstrap --variant=minbase bookworm` from
  the mirror apt is configured with, built once and cached outside the
  repository (scripts/debian_image.ts); minbase ships no package lists, so
  `apt-get update` comes first.

  Scenario: apt-get installs hello in a pulled Debian image, and hello runs
    Given a registry serving the Debian bookworm minbase image as "test/debian:bookworm"
    And an empty store
    When I pull "test/debian:bookworm" from the Debian registry
    Then the exit code is 0
    And stdout is the UUID of a new entry
    When I run `polythene exec --store <store> --isolation bubblewrap --verbose <uuid> -- apt-get update` for up to 300 seconds
    Then the exit code is 0
    And stderr contains "using backend bubblewrap"
    When I run `polythene exec --store <store> --isolation bubblewrap --verbose <uuid> -- apt-get install -y hello` for up to 300 seconds
    Then the exit code is 0
    And stderr contains "using backend bubblewrap"
    And stdout contains "Setting up hello"
    When I run `polythene exec --store <store> --isolation bubblewrap <uuid> -- hello` for up to 60 seconds
    Then the exit code is 0
    And stdout is the line "Hello, world!"
