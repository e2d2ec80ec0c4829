"""Reports the rules require of the operator: the quarterly usage report and the annual
operating report (to the bureau), the annual disclosure (to the public), each as an HTML page
with charts, a PDF of that page and an XLSX of its tables; submitted reports are frozen."""
