"""The agent desk's services: what the screen pop shows (`pop`), what the agent types about a
call (`call_notes`), new customers and linking an unknown number (`new_customer`), who may see
which customer (`visibility`), and due tasks coming back to the agent (`reminders`)."""
