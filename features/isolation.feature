Feature: Choose the isolation backend
  Polythene runs commands under bubblewrap when it can, under the backend
  named by --isolation when asked, and under another backend when bubblewrap
  is not installed.

  Background:
    Given a store holding a busybox rootfs

  Scenario: --isolation picks the backend
    When I run `polythene exec --store <store> --isolation proot --verbose <uuid> -- echo hello`
    Then the exit code is 0
    And stdout is the line "hello"
    And stderr contains "using backend proot"

  Scenario: Without bubblewrap, polythene falls back to proot
    Given a PATH holding only these tools:
      | proot | setpriv | unshare | chroot | sh | mount |
    When I run `polythene exec --store <store> --verbose <uuid> -- echo hello`
    Then the exit code is 0
    And stdout is the line "hello"
    And stderr contains "using backend proot"
