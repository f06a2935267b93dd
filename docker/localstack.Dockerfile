# LocalStack 4.14.0, the last release that starts without an account token, plus the course's extension.
# In Docker, Lambda functions run in LocalStack's own containers; the extension adds the ESM parity patches
# (bisection as AWS documents it, retries that end with their mapping) and the offline, moto-backed DynamoDB.
FROM localstack/localstack:4.14.0
COPY localstack-extension /opt/kinesis-course/localstack-extension
RUN /opt/code/localstack/.venv/bin/pip install --no-cache-dir --no-deps /opt/kinesis-course/localstack-extension
