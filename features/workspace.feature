Feature: Run a workspace's tests through a bind
  The original's second workflow: bring the host's workspace into the
  rootfs with `--bind`, run its tests from there with `--workdir`, and find
  what they wrote back on the host. A read-only bind cannot be written.

  Background:
    Given a store holding a busybox rootfs
    And a workspace on the host whose tests write "report.txt"

  Scenario: The tests run in the bound workspace and their output lands on the host
    When I run `polythene exec --store <store> --bind <workspace>:/workspace --workdir /workspace <uuid> -- sh tests/run.sh`
    Then the exit code is 0
    And stdout is the line "tests passed in /workspace"
    And the workspace holds "report.txt"

  Scenario: A read-only workspace cannot be written
    When I run `polythene exec --store <store> --isolation bubblewrap --bind <workspace>:/workspace:ro -w /workspace <uuid> -- sh tests/run.sh`
    Then the exit code is 1
    And stderr contains "Read-only file system"
