Feature: Clean up the store
  Entries pile up: pulls, clones made for tests, runs that were interrupted.
  `polythene list` shows them, `polythene rm` removes one, `polythene prune`
  removes old ones and sweeps what interrupted pulls and runs left, and
  `polythene exec --ephemeral` never leaves anything behind.

  Background:
    Given a store holding a busybox rootfs

  Scenario: An ephemeral run leaves the store as it was
    When I run `polythene exec --ephemeral --store <store> <uuid> -- touch /scratch`
    Then the exit code is 0
    And the store holds only the busybox entry
    And the busybox entry has no "/scratch"

  Scenario: A dry run shows what prune would remove, and changes nothing
    Given a clone of the busybox entry last modified 10 days ago
    When I run `polythene prune --older-than 7d --dry-run --store <store>`
    Then the exit code is 0
    And stdout contains "would remove"
    And the store holds 2 entries

  Scenario: Prune removes old clones and keeps recent entries
    Given a clone of the busybox entry last modified 10 days ago
    When I run `polythene prune --older-than 7d --store <store>`
    Then the exit code is 0
    And stdout contains "Removed 1 entry"
    And the store holds only the busybox entry

  Scenario: A removed entry is gone from the listing
    When I run `polythene rm --store <store> <uuid>`
    Then the exit code is 0
    When I run `polythene list --store <store>`
    Then stdout is the line "UUID  IMAGE  REFERENCE  DIGEST  PLATFORM  CREATED  SIZE  BACKEND  KIND"
