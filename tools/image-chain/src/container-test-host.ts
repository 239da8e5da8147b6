// The host side of every image's container tests: where the plugin's targets and the
// container-test executor find it.

/** The Python that runs them: a virtualenv tools/setup.sh makes (pytest, the SageMaker Python SDK, moto). */
export const CONTAINER_TEST_PYTHON = '.venv/bin/python';

/** The helpers every image's container tests share (image_testing.py) and their pinned requirements. */
export const CONTAINER_TEST_HELPERS = 'tools/container-test';
