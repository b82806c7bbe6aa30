Feature: Pull an image into the store
  `polythene pull` stages an image's root filesystem from a registry in the
  store, prints the new entry's UUID alone on stdout, and `polythene exec`
  then runs commands in that entry.

  Scenario: pull an image from a registry and run a command in it
    Given a registry serving a busybox image as "test/busybox:1"
    And an empty store
    When I pull "test/busybox:1" from that registry
    Then the exit code is 0
    And stdout is the UUID of a new entry
    When I run `polythene exec --store <store> <uuid> -- cat /etc/greeting`
    Then the exit code is 0
    And stdout is the line "hello from the registry"
