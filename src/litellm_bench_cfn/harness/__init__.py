"""The in-VPC benchmark harness: its template builder (template.py) and the start scripts (scripts.py).

The files it ships as text (the fake endpoint, the Locust files) are package data: see shipped.py.
"""
