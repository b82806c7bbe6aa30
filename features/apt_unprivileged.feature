Feature: Install a package as an unprivileged user
  The original's guide installs packages in a pulled image. Without root,
  polythene emulates it: bubblewrap maps root in a user namespace, proot
  fakes it with -0, and for the run only polythene binds
  `APT::Sandbox::User "root";` into /etc/apt/apt.conf.d so that apt does not
  try to drop to the `_apt` user, which such a sandbox cannot become.

  Scenario: install a package as an unprivileged user
    Given a registry serving the Debian bookworm minbase image as "test/debian:bookworm"
    And an empty store owned by the unprivileged user
    When the unprivileged user pulls "test/debian:bookworm" from the Debian registry
    Then the exit code is 0
    And stdout is the UUID of a new entry
    When the unprivileged user runs `polythene exec --store <store> --isolation bubblewrap --verbose <uuid> -- apt-get update` for up to 300 seconds
    Then the exit code is 0
    And stderr contains "using backend bubblewrap"
    And stderr contains "root emulation: /etc/apt/apt.conf.d/00polythene-sandbox"
    When the unprivileged user runs `polythene exec --store <store> --isolation bubblewrap <uuid> -- apt-get install -y hello` for up to 300 seconds
    Then the exit code is 0
    And stdout contains "Setting up hello"
    When the unprivileged user runs `polythene exec --store <store> <uuid> -- hello` for up to 60 seconds
    Then the exit code is 0
    And stdout is the line "Hello, world!"
