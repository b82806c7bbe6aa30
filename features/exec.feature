Feature: Run a command inside a stored rootfs
  `polythene exec` runs a command inside a rootfs from the store, shows the
  command's output and exits with the command's own exit code.

  Background:
    Given a store holding a busybox rootfs

  Scenario: The command's output reaches the user
    When I run `polythene exec --store <store> <uuid> -- echo hello`
    Then the exit code is 0
    And stdout is the line "hello"

  Scenario: The command's exit code passes through
    When I run `polythene exec --store <store> <uuid> -- sh -c 'exit 42'`
    Then the exit code is 42

  Scenario: A UUID that is not in the store is reported
    When I run `polythene exec --store <store> 0b7e4c2a-6f0d-4e8a-9c55-3d2f1a9e8b71 -- echo hello`
    Then the exit code is 1
    And stdout is empty
    And stderr contains "No such UUID rootfs: 0b7e4c2a-6f0d-4e8a-9c55-3d2f1a9e8b71"
