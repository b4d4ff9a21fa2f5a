FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY fhir_server ./fhir_server
COPY resources ./resources
COPY terminology ./terminology
COPY seed_bundles ./seed_bundles
RUN pip install --no-cache-dir -e .
ENV FHIR_STORE=sqlite:///data/fhir.db
EXPOSE 8080
CMD ["fhir-server", "serve", "--host", "0.0.0.0", "--port", "8080", "--workers", "2"]
