"""Reference implementations of the external systems (ERP, vendor management, contracts,
screening) as one HTTP app with fault injection; entry points in `sandbox.server`."""
