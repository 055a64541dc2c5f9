"""Reports for directie and bestuur: figures from the read models and the log, as tables,
CSV and XLSX (the PDF: `service.reports.pdf`)."""
