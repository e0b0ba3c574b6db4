// Placeholder: this screen is being built (issue 15).
export default function Receipt() {
  return (
    <section>
      <h1>Receipt</h1>
    </section>
  );
}
