FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PYTHON=python
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN useradd --create-home ptrade && mkdir -p /app/var && chown -R ptrade /app/var
USER ptrade
EXPOSE 8000
ENTRYPOINT ["bin/entrypoint"]
CMD ["web"]
